"""The Transformer encoder-decoder in the seq2seq decoder interface: incremental decoding
equals teacher forcing, source padding is masked, the alignment it keeps, decoding, and
``minidl train seq2seq --arch transformer`` / ``minidl translate`` end to end."""
import json
import os

import numpy as np
import pytest

import minidl
from minidl import cli
from minidl.text.decoding import beam_search, force_decode, greedy_decode
from minidl.text.seq2seq import EncoderDecoder
from minidl.text.seq2seq_task import build_seq2seq, load_translator
from minidl.text.transformer_seq2seq import (
    TransformerSeq2SeqDecoder,
    TransformerSeq2SeqEncoder,
    padding_mask,
)

SRC_V, TGT_V = 17, 13


def model(dropout=0.0):
    minidl.manual_seed(0)
    args = dict(d_model=16, nhead=2, num_layers=2, dim_feedforward=32, dropout=dropout,
                max_len=20)
    return EncoderDecoder(TransformerSeq2SeqEncoder(SRC_V, **args),
                          TransformerSeq2SeqDecoder(TGT_V, **args)).eval()


def batch(seed=0):
    rng = np.random.default_rng(seed)
    src = rng.integers(4, SRC_V, (3, 7))
    lens = np.array([7, 4, 2])
    src[np.arange(7)[None] >= lens[:, None]] = 1  # <pad>
    return minidl.from_numpy(src), minidl.from_numpy(lens)


def test_one_token_at_a_time_equals_teacher_forcing():
    m = model()
    src, lens = batch()
    tgt = minidl.from_numpy(np.random.default_rng(1).integers(0, TGT_V, (3, 6)))
    with minidl.no_grad():
        forced = m(src, tgt, lens)
        state = m.decoder.init_state(m.encoder(src, lens), lens)
        steps = []
        for t in range(6):
            logits, state = m.decoder(tgt[:, t:t + 1], state)
            steps.append(logits)
    np.testing.assert_allclose(minidl.cat(steps, 1).numpy(), forced.numpy(), atol=1e-5)
    assert state[2].shape == (3, 6)


def test_source_padding_is_masked():
    m = model()
    src, lens = batch()
    tgt = minidl.from_numpy(np.array([[2, 5, 6]]))
    with minidl.no_grad():
        padded = m(src[2:3], tgt, lens[2:3])
        alone = m(src[2:3, :2], tgt, lens[2:3])
        changed = src[2:3].clone()
        changed[0, 4] = 9  # a different token in the padding changes nothing
        again = m(changed, tgt, lens[2:3])
    np.testing.assert_allclose(padded.numpy(), alone.numpy(), atol=1e-5)
    np.testing.assert_allclose(padded.numpy(), again.numpy(), atol=1e-6)
    np.testing.assert_array_equal(padding_mask(lens, 7).numpy()[1], [0, 0, 0, 0, 1, 1, 1])


def test_eval_keeps_the_last_layers_cross_attention():
    m = model()
    src, lens = batch()
    tgt = minidl.from_numpy(np.full((3, 4), 2))
    with minidl.no_grad():
        m(src, tgt, lens)
    w = m.decoder.attention_weights.numpy()
    assert w.shape == (3, 4, 7)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    assert not w[1, :, 4:].any() and not w[2, :, 2:].any()  # nothing on the padding
    m.train()
    m(src, tgt, lens)
    assert m.decoder.attention_weights is None


def test_greedy_beam_and_forced_decoding_run_it():
    m = model()
    src, lens = batch()
    ids, weights = greedy_decode(m, src, lens, 2, 3, 9)
    assert len(ids) == 3 and all(len(i) <= 9 for i in ids)
    assert [w.shape[1] for w in weights] == [7, 4, 2]
    beams, scores = beam_search(m, src, lens, 2, 3, 9, beam_size=3)
    assert len(beams) == 3 and all(np.isfinite(scores))
    greedy_logp, _ = force_decode(m, src, lens, ids, 2, 3)
    beam_logp, forced_w = force_decode(m, src, lens, beams, 2, 3)
    assert forced_w[0].shape == (len(beams[0]) + 1, 7)
    assert all(np.isfinite(beam_logp)) and all(np.isfinite(greedy_logp))


def test_build_seq2seq_refuses_an_unknown_architecture():
    with pytest.raises(ValueError, match="unknown seq2seq architecture 'lstm'"):
        build_seq2seq(5, 5, arch="lstm")
    gru = dict(embed_size=4, hidden_size=8, num_layers=1, dropout=0.0, attention=True)
    with pytest.raises(TypeError, match="unexpected: d_model"):
        build_seq2seq(5, 5, d_model=16, **gru)  # never silently ignored
    with pytest.raises(TypeError, match="missing: positions"):
        build_seq2seq(5, 5, arch="transformer", d_model=8, nhead=2, num_layers=1, ff_dim=8,
                      dropout=0.0)


TINY = ["--arch", "transformer", "--epochs", "1", "--limit", "64", "--d-model", "16",
        "--nhead", "2", "--ff-dim", "32", "--num-layers", "1", "--batch-size", "32",
        "--max-len", "12", "--no-progress"]


def test_train_and_translate_with_the_transformer(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert cli.main(["train", "seq2seq", "--data", "dates", "--beam-size", "2", "--out", out,
                     *TINY]) == 0
    printed = capsys.readouterr().out
    assert "Transformer 1 + 1 layers x 16 (2 heads, feed-forward 32)" in printed
    assert os.path.getsize(os.path.join(out, "attention.png")) > 0
    with open(os.path.join(out, "metrics.json")) as f:
        config = json.load(f)["config"]
    assert config["model"]["arch"] == "transformer" and config["model"]["positions"] == 13
    ckpt = os.path.join(out, "best.safetensors")
    m, codec, _ = load_translator(ckpt)
    assert isinstance(m.decoder, TransformerSeq2SeqDecoder)
    png = str(tmp_path / "map.png")
    assert cli.main(["translate", ckpt, "3 may 2001", "--heatmap", png]) == 0
    printed = capsys.readouterr().out  # one line: the (tiny model's, maybe empty) translation
    assert printed.endswith("\n") and printed.count("\n") == 1 and os.path.getsize(png) > 0


def test_options_of_the_other_architecture_are_refused(capsys):
    assert cli.main(["train", "seq2seq", "--arch", "transformer", "--hidden-size", "8"]) == 1
    assert "--hidden-size only apply to --arch gru" in capsys.readouterr().err
    assert cli.main(["train", "seq2seq", "--d-model", "8", "--no-attention"]) == 1
    assert "--d-model only apply to --arch transformer" in capsys.readouterr().err
