"""DEEPaaS v2 module interface of the digits classifier.

A support vector classifier (scikit-learn's SVC) on the handwritten digits
bundled with scikit-learn (sklearn.datasets.load_digits: 1797 8x8 images,
no download). warm() loads the weights a training saved when the model
folder holds them (digits-svc.joblib, next to kaon-model.json), and fits
the default model otherwise (about a second). predict() takes an image
file (PNG, JPEG...; any size, dark ink on light or light on dark) or the
64 pixel values of the data set (0 to 16); train() fits with the given
hyperparameters, saves digits-svc.joblib in the working directory (kaon
runs a training in its output folder) and reports the held-out accuracy.
"""

import json
import os

import joblib
import numpy as np
from marshmallow import validate
from sklearn import datasets, svm
from sklearn.model_selection import train_test_split
from webargs import fields

from digits_model.image import to_pixels

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
WEIGHTS = "digits-svc.joblib"
DEFAULTS = {"C": 10.0, "gamma": 0.001}

_state = {"clf": None, "source": None}


class BadInput(ValueError):
    """A refused input. status_code and reason are what aiohttp's
    HTTPException carries, which kaon answers with (DEEPaaS answers 500)."""

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
        "name": m.get("name", "digits"),
        "version": m.get("version", ""),
        "summary": m.get("summary", ""),
        "description": m.get("description", ""),
        "license": m.get("license", ""),
        "author": ", ".join(m.get("authors", [])),
        "url": m.get("url", ""),
    }


def _fit(C, gamma, test_size=0.0):
    digits = datasets.load_digits()
    clf = svm.SVC(C=C, gamma=gamma, probability=True, random_state=0)
    if test_size <= 0:
        clf.fit(digits.data, digits.target)
        return clf, None, len(digits.data), 0
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=test_size, random_state=0,
        stratify=digits.target)
    clf.fit(x_train, y_train)
    return clf, float(clf.score(x_test, y_test)), len(x_train), len(x_test)


def warm():
    path = os.path.join(MODEL_DIR, WEIGHTS)
    if os.path.exists(path):
        _state["clf"] = joblib.load(path)
        _state["source"] = WEIGHTS
    else:
        _state["clf"] = _fit(**DEFAULTS)[0]
        _state["source"] = "fitted at start (C=%g, gamma=%g)" % (
            DEFAULTS["C"], DEFAULTS["gamma"])
    print("digits: weights: %s" % _state["source"], flush=True)  # the log


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
    if _state["clf"] is None:
        warm()
    proba = _state["clf"].predict_proba(x.reshape(1, 64))[0]
    classes = [int(c) for c in _state["clf"].classes_]
    best = int(np.argmax(proba))
    return {
        "label": classes[best],
        "probability": round(float(proba[best]), 6),
        "probabilities": {str(c): round(float(p), 6)
                          for c, p in zip(classes, proba)},
    }


def get_train_args():
    return {
        "C": fields.Float(
            missing=DEFAULTS["C"],
            validate=validate.Range(min=1e-6, max=1e6),
            description="Regularisation: higher fits the training data "
            "more closely."),
        "gamma": fields.Float(
            missing=DEFAULTS["gamma"],
            validate=validate.Range(min=1e-6, max=10),
            description="RBF kernel coefficient."),
        "test_size": fields.Float(
            missing=0.25,
            validate=validate.Range(min=0.05, max=0.9),
            description="Share of the data held out to measure accuracy."),
    }


def train(**kwargs):
    clf, accuracy, n_train, n_test = _fit(kwargs["C"], kwargs["gamma"],
                                         kwargs["test_size"])
    # Written to a temp name and renamed: a half-written file is never
    # taken for weights.
    tmp = WEIGHTS + ".tmp"
    joblib.dump(clf, tmp)
    os.replace(tmp, WEIGHTS)
    print("digits: C=%g gamma=%g accuracy %.4f on %d held-out images"
          % (kwargs["C"], kwargs["gamma"], accuracy, n_test))
    return {"accuracy": round(accuracy, 6), "weights": WEIGHTS,
            "train_samples": n_train, "test_samples": n_test,
            "C": kwargs["C"], "gamma": kwargs["gamma"]}
