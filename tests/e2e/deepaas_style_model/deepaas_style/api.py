"""A DEEPaaS v2 module as DEEPaaS modules are written (the demo
application's shape): webargs fields, marshmallow validators, functions at
module level, uploaded files as DEEPaaS's UploadedFile namedtuples, bytes
or an open binary file for a non-JSON accept. Nothing in it knows kaon."""

import os
import time

from marshmallow import validate
from webargs import fields

WARMED = {"at": None}


def get_metadata():
    return {
        "name": "deepaas-style",
        "description": "DEEPaaS-style test module",
        "author": "kaon tests",
        "author-email": {"kaon tests": "tests@example.org"},
        "version": "0.0.1",
        "license": "MIT",
        "url": "https://example.org/deepaas-style",
    }


def warm():
    WARMED["at"] = time.time()


def get_predict_args():
    return {
        "data": fields.Field(
            required=False,
            missing=None,
            type="file",
            data_key="data",
            location="form",
            description="A file to describe.",
        ),
        "demo_str": fields.Str(required=False, missing="some-string",
                               description="A string."),
        "demo_int": fields.Int(required=True, description="A required integer."),
        "demo_float": fields.Float(
            missing=0.5, validate=validate.Range(min=0, max=1),
            description="A number from 0 to 1."),
        "demo_bool": fields.Bool(missing=True),
        "demo_choice": fields.Str(
            missing="choice2",
            enum=["choice1", "choice2"],
            validate=validate.OneOf(["choice1", "choice2"]),
            description="One of two choices.",
        ),
        "demo_list": fields.List(fields.Int(), missing=[1, 2],
                                 description="Integers, key repeated."),
        "name": fields.Str(missing="abc", validate=validate.Length(min=1, max=5)),
        "crash": fields.Bool(missing=False, description="Raise inside predict."),
        "accept": fields.Str(
            missing="application/json",
            location="headers",
            validate=validate.OneOf(["application/json", "text/plain",
                                     "image/png"]),
            description="Media type of the response.",
        ),
    }


def predict(**kwargs):
    if kwargs["crash"]:
        raise RuntimeError("crashed on purpose")
    data = kwargs["data"]
    if kwargs["accept"] == "text/plain":
        return ("demo_int=%d" % kwargs["demo_int"]).encode()
    if kwargs["accept"] == "image/png":
        if data is None:
            raise ValueError("image/png needs a file in data")
        return open(data.filename, "rb")
    out = {k: v for k, v in kwargs.items() if k != "data"}
    if data is not None:
        with open(data.filename, "rb") as f:
            size = len(f.read())
        out["data"] = {"name": data.name, "content_type": data.content_type,
                       "original_filename": data.original_filename,
                       "size": size}
    out["warmed"] = WARMED["at"] is not None
    out["cwd"] = os.getcwd()
    print("predict printed this")  # stdout: must not reach the protocol
    return out


def get_train_args():
    return {
        "epochs": fields.Int(missing=1, validate=validate.Range(min=1, max=10),
                             description="Epochs."),
        "fail": fields.Bool(missing=False, description="Raise inside train."),
    }


def train(**kwargs):
    if kwargs["fail"]:
        raise ValueError("training failed on purpose")
    with open("trained.txt", "w") as f:
        f.write("epochs=%d\n" % kwargs["epochs"])
    return {"epochs": kwargs["epochs"], "cwd": os.getcwd(),
            "warmed": WARMED["at"] is not None}
