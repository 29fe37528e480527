#!/usr/bin/python3
"""The recurrent architectures of the lstm plugin in PyTorch: writes fixtures/lstm.json.

    lstm_classifier: [Embedding(vocab_size, embed_dim)] → LSTM | GRU | RNN (batch_first)
                     → last layer's final hidden state(s) or the mean of its outputs → Dropout → Linear
    lstm_lm:         Embedding(vocab_size, embed_dim) → LSTM → Dropout → Linear(hidden, vocab_size)
                     (tie_weights: the Linear's weight is the embedding's)
"""
import torch
from torch import nn

from fixture_rows import config_value, write_fixture

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn_tanh": nn.RNN}


class LSTMClassifier(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = lambda key, default: config_value(config, key, default)
        hidden, layers, dropout = c("hidden_size", 128), c("num_layers", 1), c("dropout", 0.0)
        self.bidirectional, self.pooling = c("bidirectional", False), c("pooling", "last")
        features = c("input_size", 28)
        if "vocab_size" in config:
            features = c("embed_dim", 64)
            self.embedding = nn.Embedding(config["vocab_size"], features)
        self.rnn = CELLS[c("cell", "lstm")](features, hidden, layers, batch_first=True, dropout=dropout,
                                            bidirectional=self.bidirectional)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden * (2 if self.bidirectional else 1), c("num_classes", 10))

    def forward(self, x):
        if hasattr(self, "embedding"):
            x = self.embedding(x)
        elif x.dim() == 4:
            x = x.squeeze(1)
        output, h_n = self.rnn(x)
        if isinstance(h_n, tuple):
            h_n = h_n[0]
        if self.pooling == "mean":
            pooled = output.mean(1)
        elif self.bidirectional:
            pooled = torch.cat([h_n[-2], h_n[-1]], 1)
        else:
            pooled = h_n[-1]
        return self.fc(self.dropout(pooled))


class LSTMLanguageModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = lambda key, default: config_value(config, key, default)
        vocab, embed, hidden = config["vocab_size"], c("embed_dim", 64), c("hidden_size", 256)
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = nn.LSTM(embed, hidden, c("num_layers", 1), batch_first=True, dropout=c("dropout", 0.0))
        self.dropout = nn.Dropout(c("dropout", 0.0))
        self.fc = nn.Linear(hidden, vocab)
        if c("tie_weights", False):
            self.fc.weight = self.embedding.weight

    def forward(self, tokens):
        return self.fc(self.dropout(self.rnn(self.embedding(tokens))[0]))


def classifier(config, input_shape):
    if "vocab_size" in config:  # int64 tokens (N, T): input_shape is [T]
        return ("lstm_classifier", config, [input_shape], LSTMClassifier(config), config["vocab_size"])
    return ("lstm_classifier", config, input_shape, LSTMClassifier(config))


def language_model(config, steps):
    return ("lstm_lm", config, [[steps]], LSTMLanguageModel(config), config["vocab_size"])


if __name__ == "__main__":
    torch.manual_seed(0)
    rows = [
        classifier({}, [28, 28]),
        classifier({"cell": "gru", "hidden_size": 32}, [1, 28, 28]),
        classifier({"cell": "rnn_tanh", "input_size": 5, "hidden_size": 16, "num_layers": 2, "bidirectional": True,
                    "dropout": 0.2, "num_classes": 3}, [7, 5]),
        classifier({"hidden_size": 24, "num_layers": 2, "bidirectional": True, "pooling": "mean"}, [1, 28, 28]),
        classifier({"vocab_size": 50, "embed_dim": 12, "hidden_size": 20, "cell": "gru", "num_classes": 4}, [9]),
        language_model({"vocab_size": 40}, 6),
        language_model({"vocab_size": 30, "embed_dim": 32, "hidden_size": 32, "num_layers": 2, "dropout": 0.1,
                        "tie_weights": True}, 5),
    ]
    write_fixture("lstm", rows, named=range(len(rows)))
