"""The network and its training loop, on scikit-learn's bundled digits."""

import time

import numpy as np
import torch
from sklearn import datasets
from sklearn.model_selection import train_test_split
from torch import nn


class DigitsNet(nn.Module):
    """Two 3x3 convolutions on the 8x8 image, then two linear layers."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
            nn.Dropout(0.2), nn.Linear(64, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def as_batch(pixels, dev):
    """(N, 64) values 0-16 -> (N, 1, 8, 8) tensor 0-1 on dev."""
    x = torch.as_tensor(np.asarray(pixels, dtype=np.float32) / 16.0)
    return x.reshape(-1, 1, 8, 8).to(dev)


def fit(epochs, lr, batch_size, test_size=0.25, seed=0, log=None):
    """Train a fresh network; returns (net, metrics)."""
    torch.manual_seed(seed)
    dev = device()
    digits = datasets.load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=test_size, random_state=seed,
        stratify=digits.target)
    xt, yt = as_batch(x_train, dev), torch.as_tensor(y_train).to(dev)
    xv, yv = as_batch(x_test, dev), torch.as_tensor(y_test).to(dev)
    net = DigitsNet().to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    t0 = time.time()
    loss_value = float("nan")
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(xt), generator=gen).to(dev)
        total = 0.0
        for i in range(0, len(xt), batch_size):
            idx = order[i:i + batch_size]
            opt.zero_grad()
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        loss_value = total / len(xt)
        if log:
            log("epoch %d/%d loss %.4f" % (epoch + 1, epochs, loss_value))
    net.eval()
    with torch.no_grad():
        accuracy = float((net(xv).argmax(1) == yv).float().mean())
    return net, {"loss": round(loss_value, 6), "accuracy": round(accuracy, 6),
                 "epochs": epochs, "train_samples": len(xt),
                 "test_samples": len(xv), "device": str(dev),
                 "seconds": round(time.time() - t0, 3)}
