"""nn.PositionalEncoding (Vaswani et al. 2017 sinusoids) and nn.LearnedPositionalEncoding."""
import io

import numpy as np
import pytest

import minidl
import minidl.nn as nn


def numpy_sinusoids(max_len, d_model):
    """PE[i, k] = sin(i / 10000^(2j/d)) for k = 2j, cos(i / 10000^(2j/d)) for k = 2j + 1."""
    pe = np.zeros((max_len, d_model))
    for i in range(max_len):
        for k in range(d_model):
            angle = i / 10000 ** ((k - k % 2) / d_model)
            pe[i, k] = np.sin(angle) if k % 2 == 0 else np.cos(angle)
    return pe


@pytest.mark.parametrize("d_model", [1, 4, 7])
def test_buffer_matches_the_formula(d_model):
    layer = nn.PositionalEncoding(d_model, max_len=30)
    assert tuple(layer.pe.shape) == (30, d_model) and layer.pe.dtype == minidl.float32
    np.testing.assert_allclose(layer.pe.numpy(), numpy_sinusoids(30, d_model), atol=1e-6)
    assert not layer.pe.requires_grad and list(layer.parameters()) == []


def test_shift_by_k_is_a_rotation_of_each_frequency_pair():
    """[sin, cos](w (i + k)) = [sin, cos](w i) R(w k), R a rotation: one 2x2 matrix per
    frequency pair, the same for every position i."""
    d_model, k = 8, 5
    pe = nn.PositionalEncoding(d_model, max_len=64).pe.numpy().astype(np.float64)
    for j in range(d_model // 2):
        w = 1 / 10000 ** (2 * j / d_model)
        rotation = np.array([[np.cos(w * k), -np.sin(w * k)], [np.sin(w * k), np.cos(w * k)]])
        pair = pe[:, 2 * j:2 * j + 2]
        np.testing.assert_allclose(pair[:-k] @ rotation, pair[k:], atol=1e-5)
        # the map is found from the data alone too: least squares gives the same matrix
        fitted = np.linalg.lstsq(pair[:-k], pair[k:], rcond=None)[0]
        np.testing.assert_allclose(fitted, rotation, atol=1e-5)


@pytest.mark.parametrize("cls", [nn.PositionalEncoding, nn.LearnedPositionalEncoding])
def test_layouts_add_the_rows_of_positions_0_to_L(cls):
    minidl.manual_seed(0)
    layer = cls(5, max_len=9).eval()
    table = (layer.pe if cls is nn.PositionalEncoding else layer.weight).detach().numpy()
    x = minidl.randn(4, 3, 5)
    np.testing.assert_allclose(layer(x).detach().numpy(), x.numpy() + table[:4, None], rtol=1e-6)
    unbatched = minidl.randn(6, 5)
    np.testing.assert_allclose(layer(unbatched).detach().numpy(), unbatched.numpy() + table[:6],
                               rtol=1e-6)
    layer.batch_first = True
    np.testing.assert_allclose(layer(x).detach().numpy(), x.numpy() + table[None, :3], rtol=1e-6)
    np.testing.assert_allclose(layer(unbatched).detach().numpy(), unbatched.numpy() + table[:6],
                               rtol=1e-6)
    out = cls(5, max_len=9, batch_first=True)(minidl.randn(2, 9, 5))
    assert tuple(out.shape) == (2, 9, 5)


@pytest.mark.parametrize("cls", [nn.PositionalEncoding, nn.LearnedPositionalEncoding])
def test_dropout_in_training_only(cls):
    layer = cls(6, dropout=0.5, max_len=20)
    x = minidl.zeros(20, 4, 6) + 1.0
    clean = layer.eval()(x).detach().numpy()
    noisy = layer.train()(x).detach().numpy()
    dropped = noisy == 0
    assert 0.3 < dropped.mean() < 0.7
    np.testing.assert_allclose(noisy[~dropped], 2 * clean[~dropped], rtol=1e-6)
    layer.dropout = 0.0
    np.testing.assert_array_equal(layer.train()(x).detach().numpy(), clean)


def test_learned_init_and_gradient():
    minidl.manual_seed(0)
    layer = nn.LearnedPositionalEncoding(16, dropout=0.0, max_len=500)
    weight = layer.weight.detach().numpy()
    assert layer.weight.requires_grad and abs(weight.mean()) < 0.03
    assert abs(weight.std() - 1) < 0.03
    x = minidl.randn(7, 2, 16, requires_grad=True)
    coeff = minidl.randn(7, 2, 16)
    (layer(x) * coeff).sum().backward()
    expected = np.zeros((500, 16), np.float32)
    expected[:7] = coeff.numpy().sum(axis=1)
    np.testing.assert_allclose(layer.weight.grad.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), coeff.numpy())


def test_sinusoidal_passes_the_input_gradient():
    layer = nn.PositionalEncoding(3, dropout=0.0, max_len=4)
    x = minidl.randn(2, 4, 3, requires_grad=True)
    layer(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 4, 3), np.float32))


@pytest.mark.parametrize("cls, key", [(nn.PositionalEncoding, "pe"),
                                      (nn.LearnedPositionalEncoding, "weight")])
def test_state_dict_round_trip(cls, key):
    minidl.manual_seed(1)
    source = cls(5, max_len=7)
    assert list(source.state_dict()) == [key]
    buffer = io.BytesIO()
    minidl.save(source.state_dict(), buffer)
    buffer.seek(0)
    target = cls(5, max_len=7)
    with minidl.no_grad():
        getattr(target, key).zero_()
    target.load_state_dict(minidl.load(buffer))
    x = minidl.randn(3, 2, 5)
    np.testing.assert_array_equal(target.eval()(x).detach().numpy(),
                                  source.eval()(x).detach().numpy())


def test_double_moves_the_table():
    layer = nn.PositionalEncoding(4, max_len=6).double()
    assert layer.pe.dtype == minidl.float64
    assert layer(minidl.randn(6, 4, dtype=minidl.float64)).dtype == minidl.float64
    np.testing.assert_allclose(layer.pe.numpy(), numpy_sinusoids(6, 4), atol=1e-7)


def test_repr():
    assert repr(nn.PositionalEncoding(8)) == "PositionalEncoding(8, dropout=0.1, max_len=5000)"
    assert repr(nn.LearnedPositionalEncoding(8, 0.0, 16, True)) == \
        "LearnedPositionalEncoding(8, dropout=0.0, max_len=16, batch_first=True)"


@pytest.mark.parametrize("cls", [nn.PositionalEncoding, nn.LearnedPositionalEncoding])
def test_bad_input_is_refused_by_name(cls):
    layer = cls(4, max_len=5)
    with pytest.raises(ValueError, match=r"sequence length 6 .*\(6, 2, 4\).*max_len=5"):
        layer(minidl.randn(6, 2, 4))
    with pytest.raises(ValueError, match=r"d_model=4.*\(3, 2, 5\)"):
        layer(minidl.randn(3, 2, 5))
    with pytest.raises(ValueError, match=r"2-D \(L, d_model\) or 3-D \(L, N, d_model\).*4-D"):
        layer(minidl.randn(1, 2, 3, 4))
    with pytest.raises(ValueError, match="1-D"):
        layer(minidl.randn(4))
    batch_first = cls(4, max_len=5, batch_first=True)
    with pytest.raises(ValueError, match=r"sequence length 6 of x \(dimension 1"):
        batch_first(minidl.randn(2, 6, 4))
    for kwargs, name in [({"d_model": 0}, "d_model"), ({"d_model": 2.5}, "d_model"),
                         ({"d_model": 4, "max_len": 0}, "max_len"),
                         ({"d_model": 4, "dropout": -0.1}, "dropout"),
                         ({"d_model": 4, "dropout": 1.5}, "dropout")]:
        with pytest.raises(ValueError, match=name):
            cls(**kwargs)
