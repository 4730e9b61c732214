"""Per-callable cases, ``(qualified name or shared name, keyword) -> checks``, where the
generic rule by keyword name does not fit or cannot choose a value; one table per area."""
from .cases_attention import ATTENTION_CASES
from .cases_causal_conv import CAUSAL_CONV_CASES
from .cases_conv_lstm import CONV_LSTM_CASES
from .cases_extras import EXTRAS_CASES
from .cases_mha import MHA_CASES
from .cases_nn import NN_CASES
from .cases_positional import POSITIONAL_CASES
from .cases_rnn import RNN_CASES
from .cases_runtime import RUNTIME_CASES
from .cases_tensor import TENSOR_CASES
from .cases_training import TRAINING_CASES
from .cases_transformer import TRANSFORMER_CASES

CASES = {}
for _table in (TENSOR_CASES, NN_CASES, TRAINING_CASES, RUNTIME_CASES, EXTRAS_CASES,
               CAUSAL_CONV_CASES, CONV_LSTM_CASES, RNN_CASES, POSITIONAL_CASES, ATTENTION_CASES,
               TRANSFORMER_CASES, MHA_CASES):
    _clash = CASES.keys() & _table.keys()
    assert not _clash, f"keyword cases given twice: {sorted(_clash)}"
    CASES.update(_table)
