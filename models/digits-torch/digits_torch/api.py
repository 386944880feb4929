"""DEEPaaS v2 module interface of the PyTorch digits classifier.

A small convolutional network (net.py) on the handwritten digits bundled
with scikit-learn (no download), on the GPU when PyTorch sees one (kaon
gives a worker or training the GPUs its manifest asks for) and on the CPU
otherwise. warm() loads digits-torch.pt from the model folder when a
trained version ships it, and otherwise trains a few epochs at start (a
few seconds on a CPU). predict() takes an image file or the 64 pixel
values; train() trains with the given epochs, learning rate and batch
size, saves the weights (torch.save of the state dict) as digits-torch.pt
in the working directory (the training's output folder) and returns the
final loss and the held-out accuracy.
"""

import json
import os

import numpy as np
import torch
from marshmallow import validate
from webargs import fields

from digits_torch.image import to_pixels
from digits_torch.net import DigitsNet, as_batch, device, fit

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
WEIGHTS = "digits-torch.pt"
WARM_EPOCHS = 8

_state = {"net": None, "source": None}


class BadInput(ValueError):
    """A refused input, with aiohttp HTTPException's status_code and
    reason (kaon answers with them; DEEPaaS would answer 500)."""

    def __init__(self, reason, status_code=400):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


def _manifest():
    try:
        with open(os.path.join(MODEL_DIR, "kaon-model.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def get_metadata():
    m = _manifest()
    return {
        "name": m.get("name", "digits-torch"),
        "version": m.get("version", ""),
        "summary": m.get("summary", ""),
        "description": m.get("description", ""),
        "license": m.get("license", ""),
        "author": ", ".join(m.get("authors", [])),
        "url": m.get("url", ""),
    }


def _load(path):
    net = DigitsNet()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # PyTorch before 1.13 has no weights_only
        state = torch.load(path, map_location="cpu")
    net.load_state_dict(state)
    return net.to(device())


def warm():
    path = os.path.join(MODEL_DIR, WEIGHTS)
    if os.path.exists(path):
        net = _load(path)
        _state["source"] = WEIGHTS
    else:
        net, metrics = fit(WARM_EPOCHS, 0.01, 64)
        _state["source"] = "trained at start (%d epochs, accuracy %.3f)" % (
            WARM_EPOCHS, metrics["accuracy"])
    print("digits-torch: weights: %s" % _state["source"], flush=True)  # the log
    net.eval()
    _state["net"] = net


def get_predict_args():
    return {
        "image": fields.Field(
            required=False,
            missing=None,
            type="file",
            location="form",
            description="A picture of one handwritten digit (PNG, JPEG...).",
        ),
        "pixels": fields.List(
            fields.Float(validate=validate.Range(min=0, max=16)),
            required=False,
            missing=None,
            validate=validate.Length(equal=64),
            description="Or the digit as 64 numbers from 0 (background) to "
            "16 (ink), row by row, as in scikit-learn's digits data.",
        ),
        "accept": fields.Str(
            missing="application/json",
            validate=validate.OneOf(["application/json"]),
            description="Media type of the answer.",
        ),
    }


def predict(**kwargs):
    image, pixels = kwargs.get("image"), kwargs.get("pixels")
    if (image is None) == (pixels is None):
        raise BadInput("give either an image file or 64 pixel values")
    if image is not None:
        try:
            x = to_pixels(image.filename)
        except ValueError as e:
            raise BadInput("%s: %s" % (image.original_filename or "image", e),
                           415)
    else:
        x = np.asarray(pixels, dtype=np.float64)
    if _state["net"] is None:
        warm()
    net = _state["net"]
    with torch.no_grad():
        proba = torch.softmax(net(as_batch(x, device())), 1)[0].cpu().numpy()
    best = int(np.argmax(proba))
    return {
        "label": best,
        "probability": round(float(proba[best]), 6),
        "probabilities": {str(c): round(float(p), 6)
                          for c, p in enumerate(proba)},
    }


def get_train_args():
    return {
        "epochs": fields.Int(
            missing=10, validate=validate.Range(min=1, max=500),
            description="Passes over the training data."),
        "lr": fields.Float(
            missing=0.01, validate=validate.Range(min=1e-6, max=1.0),
            description="Learning rate (Adam)."),
        "batch_size": fields.Int(
            missing=64, validate=validate.Range(min=1, max=1347),
            description="Images per optimisation step."),
    }


def train(**kwargs):
    net, metrics = fit(kwargs["epochs"], kwargs["lr"], kwargs["batch_size"],
                       log=lambda line: print(line, flush=True))
    tmp = WEIGHTS + ".tmp"
    torch.save(net.state_dict(), tmp)
    os.replace(tmp, WEIGHTS)
    metrics.update({"weights": WEIGHTS, "lr": kwargs["lr"],
                    "batch_size": kwargs["batch_size"]})
    return metrics
