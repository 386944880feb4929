"""A model given as module:Class (DEEPaaS's entry-point form for an
object), with a response `schema` and without train or get_metadata."""

from marshmallow import Schema, validate
from webargs import fields


class ResultSchema(Schema):
    label = fields.Str(required=True)
    score = fields.Float(required=True)


class Model:
    schema = ResultSchema

    def get_predict_args(self):
        return {
            "mode": fields.Str(
                required=True,
                validate=validate.OneOf(["good", "bad", "unimplemented"])),
        }

    def predict(self, mode):
        if mode == "unimplemented":
            raise NotImplementedError()
        if mode == "bad":
            return {"label": "x", "score": "not a number", "extra": 1}
        return {"label": "x", "score": 0.25}
