#!/bin/bash
# Issue 16, job 2: Gemma-3-270M- and Qwen3-0.6B-shaped random models through the CLI at 1,024 tokens with every map
# (time, GPU memory), the warmed forward benchmark, and transformers on the same ids for comparison.
set -u
OUT=${1:?result dir}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
D=.devrun/i16-families
BIG=/tmp/i16big
rm -rf $BIG; mkdir -p $BIG
timeout 60 python3 $D/make_big.py $BIG > "$OUT/make_big.log" 2>&1; echo "make_big rc=$?" >> "$OUT/make_big.log"
source .gpu/enter.sh
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv > "$OUT/gpu.txt" 2>&1
for m in gemma3_270m qwen3_06b; do
  [ -f $BIG/$m/ids.txt ] || continue
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > "$OUT/gpumem_$m.csv" 2>/dev/null &
  SMI=$!
  s=$(date +%s.%N)
  timeout 45 node $D/cli.mjs run --model $BIG/$m --ids "$(cat $BIG/$m/ids.txt)" --no-bos --out $BIG/$m/run.safetensors > "$OUT/cli_$m.log" 2>&1
  rc=$?
  e=$(date +%s.%N)
  kill $SMI 2>/dev/null; wait $SMI 2>/dev/null
  echo "rc=$rc wall_s=$(python3 -c "print(round($e-$s,2))") out_bytes=$(stat -c %s $BIG/$m/run.safetensors 2>/dev/null)" >> "$OUT/cli_$m.log"
done
timeout 50 node $D/model-bench.mjs --dir $BIG --models gemma3_270m,qwen3_06b --T 1024 --modes maps,none --decode 16 --decode-prompt 128 --reps 7 --case-s 2 --warm-ms 1500 --json "$OUT/bench.json" > "$OUT/bench.log" 2>&1
echo "bench rc=$?" >> "$OUT/bench.log"
timeout 40 python3 $D/compare.py $BIG "$OUT" > "$OUT/compare.log" 2>&1; echo "compare rc=$?" >> "$OUT/compare.log"
ls -la "$OUT"
