#!/usr/bin/env bash
# The paper-size chain end to end on one lent GPU, inside one device call (about 10 minutes of device time):
# built-in data -> `remogpt train all --preset paper` with step limits sized for the budget -> report.
#
#   device run:  bash bench/gpu_paper_run.sh            (writes the report, stage times and logs to $OUT)
#   CPU rehearsal (what the tests and a GPU-less session run):
#                PRESET=tiny MOTIONS=60 TOKENIZER_STEPS=20 RETRIEVER_STEPS=10 EVALUATOR_STEPS=10 \
#                LM_PRETRAIN_STEPS=5 LM_STEPS=10 REPLICATIONS=1 OUT=/tmp/gpu_rehearsal bash bench/gpu_paper_run.sh
#
# Step limits are environment variables (defaults below were sized from the paper presets' shapes, not yet from a
# measured GPU run: the first device run prints each stage's seconds in stages.json, then resize them). Lightning's
# accelerator "auto" takes the GPU; the paper LM preset ("paper": a T5-base-sized model) trains in bf16-mixed
# (its precision "auto" resolves to bf16 on GPUs that support it, training.resolved_precision).
# What comes back: a device call returns at most 8 files of 16 MiB, so the T5-base weights (about 0.9 GB) stay on
# the machine; the report, stage log and training logs come back.
set -euo pipefail
cd "$(dirname "$0")/.."

PRESET=${PRESET:-paper}
MOTIONS=${MOTIONS:-2000}
OUT=${OUT:-out}
WORK=${WORK:-/tmp/remogpt_gpu}
TOKENIZER_STEPS=${TOKENIZER_STEPS:-3000}
RETRIEVER_STEPS=${RETRIEVER_STEPS:-2000}
EVALUATOR_STEPS=${EVALUATOR_STEPS:-2000}
LM_PRETRAIN_STEPS=${LM_PRETRAIN_STEPS:-1500}
LM_STEPS=${LM_STEPS:-1500}
REPLICATIONS=${REPLICATIONS:-3}

mkdir -p "$OUT" "$WORK"
if [ ! -x .venv/bin/remogpt ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q -e . 2>&1 | tail -n 3
fi
.venv/bin/python - <<'EOF' | tee "$OUT/device.txt"
import torch
print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu")
EOF
start=$(date +%s)
[ -d "$WORK/data" ] || .venv/bin/remogpt data synth "$WORK/data" --motions "$MOTIONS" --seed 0
.venv/bin/remogpt train all --data "$WORK/data" --out "$WORK/model" --preset "$PRESET" \
  --tokenizer-steps "$TOKENIZER_STEPS" --retriever-steps "$RETRIEVER_STEPS" --evaluator-steps "$EVALUATOR_STEPS" \
  --lm-pretrain-steps "$LM_PRETRAIN_STEPS" --lm-steps "$LM_STEPS" --replications "$REPLICATIONS" 2>&1 | tee "$OUT/train_all.log"
echo "total seconds: $(( $(date +%s) - start ))" | tee -a "$OUT/device.txt"
for name in report.md report.json stages.json remogpt.json; do
  cp "$WORK/model/$name" "$OUT/$name"
done
tail -n 200 "$WORK/model/stages/instruct/metrics.jsonl" > "$OUT/lm_metrics_tail.jsonl"
