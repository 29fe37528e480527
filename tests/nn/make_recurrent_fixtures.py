#!/usr/bin/python3
"""Writes recurrent_fixtures.json: input, parameters, output and gradients of Loom's recurrent
layers (rnn, lstm, gru, rnn_cell, lstm_cell, gru_cell), computed by PyTorch (Debian's
python3-torch, 1.13) in float64, in the layer-case format of layer_fixtures.json (see
make_layer_fixtures.py), which test_layer_fixtures.cpp reads as well.

Run from anywhere with Debian's interpreter (the fixture file is committed):
    /usr/bin/python3 tests/nn/make_recurrent_fixtures.py

The parameters are PyTorch's own, under PyTorch's names (weight_ih_l0, weight_hh_l1_reverse,
weight_hr_l0, ...): the C++ test loads them strictly, so each case is also a PyTorch state_dict
loading unchanged. Inputs follow Loom's multi-tensor convention: x, then the initial state
(h0 for rnn and gru, h0 and c0 for lstm; h or h and c for the cells), then int64 lengths; outputs
are (output, h_n) or (output, h_n, c_n), a cell's (h',) or (h', c'). A lengths input runs PyTorch
on pack_padded_sequence(x, lengths, enforce_sorted=False) and pads the output back to L with
pad_packed_sequence: Loom's lengths are the equivalent of packed sequences.
"""
import json
import os

import torch

torch.manual_seed(1616)
D = torch.float64


def randn(*shape):
    return torch.randn(*shape, dtype=D)


SEQUENCE = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
CELLS = {"rnn_cell": torch.nn.RNNCell, "lstm_cell": torch.nn.LSTMCell, "gru_cell": torch.nn.GRUCell}


def sequence_layer(kind, config, one_output):
    """PyTorch's layer with Loom's calling convention: forward(x, *state, lengths=None)."""

    class Layer(SEQUENCE[kind]):
        def forward(self, x, *rest):
            lengths = rest[-1] if rest and rest[-1].dtype == torch.int64 else None
            states = [t for t in rest if t.dtype == D]
            hx = None
            if states:
                hx = tuple(states) if kind == "lstm" else states[0]
            if lengths is not None:
                steps = x.shape[1] if self.batch_first else x.shape[0]
                packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=self.batch_first,
                                                                 enforce_sorted=False)
                out, state = super().forward(packed, hx)
                out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=self.batch_first,
                                                                total_length=steps)
            else:
                out, state = super().forward(x, hx)
            if one_output:
                return out
            return (out, *state) if kind == "lstm" else (out, state)

    return Layer(**config)


def cell_layer(kind, config):
    class Cell(CELLS[kind]):
        def forward(self, x, *state):
            if kind == "lstm_cell":
                return super().forward(x, tuple(state) if state else None)
            return super().forward(x, state[0] if state else None)

    return Cell(**config)


DTYPES = {torch.float64: "float64", torch.int64: "int64", torch.bool: "bool"}


def encode(t):
    return {"shape": list(t.shape), "dtype": DTYPES[t.dtype], "data": t.reshape(-1).tolist()}


cases = []


def case(name, kind, config, xs, mode="train", one_output=False):
    """xs: the inputs in Loom's forward order; one input and one_output call the one-tensor forward."""
    module = cell_layer(kind, config) if kind in CELLS else sequence_layer(kind, config, one_output)
    module = module.to(D)
    module.train(mode == "train")
    with torch.no_grad():  # larger than the default init, so that a layout bug shows
        for p in module.parameters():
            p.copy_(randn(*p.shape) * 0.6)
    xs = [t.clone().requires_grad_(True) if t.dtype == D else t for t in xs]
    out = module(*xs)
    outs = list(out) if isinstance(out, tuple) else [out]
    grad_outputs = [randn(*o.shape) for o in outs]
    sum((o * g).sum() for o, g in zip(outs, grad_outputs)).backward()
    cases.append({
        "name": name, "type": kind, "config": config, "mode": mode,
        "inputs": [encode(t.detach()) for t in xs],
        "parameters": {n: encode(p.detach()) for n, p in module.named_parameters()},
        "outputs": [encode(o.detach()) for o in outs],
        "grad_outputs": [encode(g) for g in grad_outputs],
        "grad_inputs": [encode(t.grad) if t.dtype == D else None for t in xs],
        "grad_parameters": {n: encode(p.grad) for n, p in module.named_parameters()},
    })


def lengths(*values):
    return torch.tensor(values, dtype=torch.int64)


# RNN: tanh and relu, layers, batch_first, initial state, the one-tensor forward, unbatched
case("rnn tanh, no state", "rnn", {"input_size": 3, "hidden_size": 4}, [randn(5, 2, 3)])
case("rnn relu, 2 layers, batch_first, h0", "rnn",
     {"input_size": 3, "hidden_size": 4, "num_layers": 2, "nonlinearity": "relu", "batch_first": True},
     [randn(2, 5, 3), randn(2, 2, 4)])
case("rnn one-tensor forward, unbatched (L, input_size)", "rnn", {"input_size": 2, "hidden_size": 3},
     [randn(4, 2)], one_output=True)
case("rnn bidirectional relu, lengths (unsorted)", "rnn",
     {"input_size": 3, "hidden_size": 3, "nonlinearity": "relu", "bidirectional": True},
     [randn(5, 3, 3), randn(2, 3, 3), lengths(3, 5, 1)])

# LSTM: layers, bidirectional, batch_first, proj_size, no bias, states, lengths, unbatched
case("lstm 2 layers bidirectional, h0 c0", "lstm",
     {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True},
     [randn(4, 2, 3), randn(4, 2, 4), randn(4, 2, 4)])
case("lstm proj_size 2, 2 layers, batch_first, no state", "lstm",
     {"input_size": 3, "hidden_size": 4, "num_layers": 2, "proj_size": 2, "batch_first": True}, [randn(2, 5, 3)])
case("lstm without bias, unbatched with state", "lstm", {"input_size": 2, "hidden_size": 3, "bias": False},
     [randn(4, 2), randn(1, 3), randn(1, 3)])
case("lstm bidirectional, lengths (unsorted), h0 c0", "lstm",
     {"input_size": 3, "hidden_size": 3, "bidirectional": True},
     [randn(5, 3, 3), randn(2, 3, 3), randn(2, 3, 3), lengths(2, 5, 4)])
case("lstm proj_size, 2 layers bidirectional, batch_first, lengths, no state", "lstm",
     {"input_size": 2, "hidden_size": 4, "proj_size": 3, "num_layers": 2, "bidirectional": True,
      "batch_first": True},
     [randn(3, 4, 2), lengths(4, 1, 3)])
case("lstm 3 layers, dropout 0.4 (eval: no dropout)", "lstm",
     {"input_size": 2, "hidden_size": 3, "num_layers": 3, "dropout": 0.4}, [randn(3, 2, 2)], mode="eval")
case("lstm one-tensor forward", "lstm", {"input_size": 3, "hidden_size": 2}, [randn(4, 2, 3)], one_output=True)

# GRU: b_hn inside r * (...), layers, bidirectional, lengths
case("gru 2 layers bidirectional, h0", "gru",
     {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True},
     [randn(4, 2, 3), randn(4, 2, 4)])
case("gru batch_first, bidirectional, lengths (unsorted), no state", "gru",
     {"input_size": 2, "hidden_size": 3, "bidirectional": True, "batch_first": True},
     [randn(3, 5, 2), lengths(5, 2, 3)])
case("gru without bias, h0", "gru", {"input_size": 3, "hidden_size": 2, "bias": False},
     [randn(3, 2, 3), randn(1, 2, 2)])

# Cells
case("rnn_cell tanh, h", "rnn_cell", {"input_size": 3, "hidden_size": 4}, [randn(2, 3), randn(2, 4)])
case("rnn_cell relu without bias, zero state (one-tensor forward)", "rnn_cell",
     {"input_size": 3, "hidden_size": 4, "nonlinearity": "relu", "bias": False}, [randn(3, 3)])
case("lstm_cell, h c", "lstm_cell", {"input_size": 3, "hidden_size": 2}, [randn(2, 3), randn(2, 2), randn(2, 2)])
case("lstm_cell unbatched, zero state", "lstm_cell", {"input_size": 3, "hidden_size": 2}, [randn(3)])
case("gru_cell, h", "gru_cell", {"input_size": 3, "hidden_size": 4}, [randn(2, 3), randn(2, 4)])
case("gru_cell unbatched without bias, h", "gru_cell", {"input_size": 2, "hidden_size": 3, "bias": False},
     [randn(2), randn(3)])

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recurrent_fixtures.json")
with open(path, "w") as f:  # one case per line: small, and diffs show which case changed
    f.write(f'{{"generator": "tests/nn/make_recurrent_fixtures.py", "torch": "{torch.__version__}", "cases": [\n')
    f.write(",\n".join(json.dumps(c) for c in cases))
    f.write("\n]}\n")
print(f"wrote {len(cases)} cases to {path}")
