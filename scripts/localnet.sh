#!/usr/bin/env bash
# The main job: installs what is needed, builds, starts a local Civitas chain and does real
# work on it through the `civitas` CLI, then keeps the chain running until Ctrl-C.
#   scripts/localnet.sh [DIR]     node home and logs under DIR (default: ./localnet)
# For now the council is a single validator; the BFT network replaces it when consensus lands.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${1:-$root/localnet}
grpc_port=${CIVITAS_GRPC_PORT:-26657}

bash scripts/setup.sh
bash scripts/build.sh civitasd civitas
civitasd=$root/build/node/civitasd
civitas="$root/build/tools/cli/civitas --node 127.0.0.1:$grpc_port"

if [ ! -f "$dir/node0/config/genesis.json" ]; then
  "$civitasd" init --home "$dir/node0" --chain-id civitas-localnet --moniker node0
fi
"$civitasd" config validate --home "$dir/node0"
echo "== starting the validator (log: $dir/node0.log)"
"$civitasd" start --home "$dir/node0" --grpc-listen "127.0.0.1:$grpc_port" >>"$dir/node0.log" 2>&1 &
node_pid=$!
trap 'echo; echo "== stopping"; kill -TERM $node_pid 2>/dev/null; wait $node_pid 2>/dev/null; "$civitasd" status --home "$dir/node0"' EXIT
for _ in $(seq 1 100); do
  $civitas status >/dev/null 2>&1 && break
  kill -0 $node_pid 2>/dev/null || { echo "the node failed to start:"; tail -20 "$dir/node0.log"; exit 1; }
  sleep 0.1
done
$civitas status

echo "== a citizen creates a key"
key=$dir/citizen-$(date +%s).json
$civitas keys new --out "$key"
citizen=$($civitas -o json keys show --key "$key" | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')

echo "== the operator funds the citizen (waits for the commit)"
$civitas transfer --key "$dir/node0/keys/operator.json" --to "$citizen" --amount 1000000 --wait
echo "== the citizen pays someone back"
operator=$($civitas -o json keys show --key "$dir/node0/keys/operator.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')
$civitas transfer --key "$key" --to "$operator" --amount 250 --wait
echo "== a refused transaction: a nonce from the future"
$civitas transfer --key "$key" --to "$operator" --amount 1 --nonce 99 || true
echo "== the citizen deploys a contract (a counter, written in the VM's assembly) and calls it"
contract=$($civitas -o json deploy --key "$key" --code "$root/tests/vm/programs/counter.casm" --wait \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["receipt"]["contract_address"])')
echo "contract at $contract"
$civitas call --key "$key" --contract "$contract" --function increment --wait
$civitas call --key "$key" --contract "$contract" --function increment --wait
echo "== balances"
$civitas account "$citizen"
$civitas account "$operator"
echo "== latest block"
$civitas block

cat <<MSG

The chain is running (gRPC on 127.0.0.1:$grpc_port). Try:
  $civitas status
  $civitas account $citizen
  $civitasd status --home $dir/node0      # from another shell
After Ctrl-C, audit the chain: $civitasd replay --home $dir/node0
MSG
wait $node_pid
