"""Text processing for deep learning: tokenizers, vocabularies, language-model batches,
padding and masks, bundled corpora and BLEU."""

from . import bleu, datasets  # noqa: F401
from .attention import AdditiveAttention, DotProductAttention, masked_softmax  # noqa: F401
from .batching import LanguageModelBatches, detach_state  # noqa: F401
from .bleu import bleu_score, corpus_bleu, sentence_bleu  # noqa: F401
from .bpe import BPETokenizer  # noqa: F401
from .datasets import dates, en_es_pairs, shakespeare  # noqa: F401
from .decoding import beam_search, force_decode, greedy_decode  # noqa: F401
from .generation import generate, generate_ids  # noqa: F401
from .gpt import GPT, KeyValueCache  # noqa: F401
from .language_model import RNNLanguageModel  # noqa: F401
from .lm_task import LanguageModelTrainer  # noqa: F401
from .padding import pad_batch, sequence_mask, truncate_pad  # noqa: F401
from .seq2seq import (  # noqa: F401
    AttentionDecoder,
    EncoderDecoder,
    MaskedCrossEntropyLoss,
    Seq2SeqDecoder,
    Seq2SeqEncoder,
    teacher_forcing_inputs,
)
from .tokenizers import CharTokenizer, WordTokenizer  # noqa: F401
from .vocab import Vocab  # noqa: F401
from .word2vec import (  # noqa: F401
    SkipGramHierarchicalSoftmax,
    SkipGramNegativeSampling,
    SkipGramPairs,
)
from .word_vectors import KeyedVectors  # noqa: F401
