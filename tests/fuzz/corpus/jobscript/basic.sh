#!/bin/bash
# train the model
#KAON --name "train job" --gpus 2 --cpus 8
#KAON --mem 64G --time 1d12h   # a comment
#KAON --env 'GREETING=hello world' --env B=x\ y --array 0-9%2
#KAON --after 12,13 --hold --workdir /tmp

python train.py
#KAON --gpus 8
