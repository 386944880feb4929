"""A stand-in for the tensorboard package, for kaon's tests only.

It has the shape kaon's wrapper (src/libexec/kaon-tensorboard.py) relies on
in tensorboard/program.py: TensorBoard(server_class=...), configure(argv),
main(), TensorBoardServer and TensorBoardServerException. Its WSGI app
echoes the request as JSON, so the tests see what reached "TensorBoard".
"""
