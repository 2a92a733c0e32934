#!/usr/bin/env bash
# UMM paper, Table 9: seconds of CRR vs k-NN vs linear probe on the same features (paper: 4.03 s, 13.63 s, 92.76 s).
source "$(dirname "$0")/common.sh"
N="${N:-1000}"; DIM="${DIM:-512}"
umm4j timing --n "$N" --dim "$DIM" ${TIMING_ARGS:-}
