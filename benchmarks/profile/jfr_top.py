#!/usr/bin/env python3
"""Aggregates a JFR recording's samples of the main thread by DL4J layer/helper and by top (native) frame.

Usage: jfr print --json --events jdk.ExecutionSample,jdk.NativeMethodSample REC.jfr > rec.json
       python3 jfr_top.py rec.json [thread-name (main)]
ND4J's OpenMP workers are native threads JFR does not sample; the Java thread that called into libnd4j waits in
the native call while they work, so its NativeMethodSample stacks attribute the parallel time to the Java caller.
"""
import collections
import json
import sys

data = json.load(open(sys.argv[1]))
thread = sys.argv[2] if len(sys.argv) > 2 else "main"
by_layer = collections.Counter()
by_top = collections.Counter()
by_kind = collections.Counter()
total = 0
for e in data["recording"]["events"]:
    v = e["values"]
    t = v.get("sampledThread") or {}
    if (t.get("javaName") or t.get("osName")) != thread:
        continue
    frames = [f["method"]["type"]["name"] + "." + f["method"]["name"] for f in (v.get("stackTrace") or {}).get("frames", [])]
    if not frames:
        continue
    total += 1
    by_kind[e["type"]] += 1
    by_top[frames[0]] += 1
    # innermost frame outside ND4J/JavaCPP/JDK: the DL4J layer, vertex, helper or updater (or umm4j) that called
    tag = next((f for f in frames if f.startswith(("org/deeplearning4j", "org/umm4j"))), frames[0])
    # and the op family underneath it
    tag = tag + "  <- " + frames[0].rsplit(".", 1)[1]
    by_layer[tag] += 1
print("samples of thread %s: %d %s" % (thread, total, dict(by_kind)))
print("\nby innermost DL4J layer/vertex/helper/updater frame:")
for k, c in by_layer.most_common(25):
    print("%6.1f %%  %s" % (100.0 * c / total, k))
print("\nby top frame:")
for k, c in by_top.most_common(15):
    print("%6.1f %%  %s" % (100.0 * c / total, k))
