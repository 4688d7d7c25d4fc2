"""jstream: the JSON objects of a goscope --json stream (one or more
objects per line or across lines), for the tests' inline Python."""
import json


def load(path):
    text = open(path).read()
    objs, dec, i = [], json.JSONDecoder(), 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return objs
        o, i = dec.raw_decode(text, i)
        objs.append(o)
