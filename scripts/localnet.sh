#!/usr/bin/env bash
# The main job: installs what is needed, builds, starts a local council of validators (four
# civitasd processes agreeing on blocks with BFT consensus) and a fifth node that follows, and
# does real work on it through the `civitas` CLI (the council later votes the fifth node's
# validator in), then keeps the network running until Ctrl-C. The homes are made by
# `civitasd testnet`, which runs the genesis ceremony (init, offer, new, add-validator,
# add-account, finalize, verify) for each of them; for a council on several machines, see
# docs/COUNCIL.md.
#   scripts/localnet.sh [DIR]     node homes and logs under DIR (default: ./localnet)
#   CIVITAS_VALIDATORS=N          council size (default 4)
#   CIVITAS_BASE_PORT=P           node i uses P+10i (P2P), +1 (gRPC), +2 (HTTP); default 26600
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${1:-$root/localnet}
n=${CIVITAS_VALIDATORS:-4}
base=${CIVITAS_BASE_PORT:-26600}

bash scripts/setup.sh
bash scripts/build.sh civitasd civitas
civitasd=$root/build/node/civitasd
cli=$root/build/tools/cli/civitas
grpc() { echo "127.0.0.1:$((base + 10 * $1 + 1))"; }
civitas="$cli --node $(grpc 0)"

if [ ! -f "$dir/node0/config/genesis.json" ]; then
  # The demo waits for voting periods (in blocks) to pass: an idle council makes a block per
  # heartbeat, one a minute by default, so this chain beats every 500 ms.
  "$civitasd" testnet --validators "$n" --joiners 1 --output "$dir" --chain-id civitas-localnet \
    --base-port "$base" --voting-period 15 --citizen-vote text --heartbeat-ms 500
fi
pids=()
start_node() {
  "$civitasd" config validate --home "$dir/node$1" >/dev/null
  "$civitasd" start --home "$dir/node$1" >>"$dir/node$1.log" 2>&1 &
  pids[$1]=$!
}
stop_all() {
  echo; echo "== stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for i in $(seq 0 "$n"); do "$civitasd" status --home "$dir/node$i" | tr -d '\n'; echo; done
}
trap stop_all EXIT
echo "== starting $n validators and node$n, which follows the chain (logs: $dir/node<i>.log)"
for i in $(seq 0 "$n"); do start_node "$i"; done
for i in $(seq 0 "$n"); do
  for _ in $(seq 1 100); do
    $cli --node "$(grpc "$i")" status >/dev/null 2>&1 && break
    kill -0 "${pids[$i]}" 2>/dev/null || { echo "node$i failed to start:"; tail -20 "$dir/node$i.log"; exit 1; }
    sleep 0.1
  done
done
$civitas status
operator_key=$dir/keys/operator.json

echo "== a citizen creates a key"
key=$dir/citizen-$(date +%s).json
$civitas keys new --out "$key"
citizen=$($civitas -o json keys show --key "$key" | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')

echo "== the operator funds the citizen (waits for the commit)"
$civitas transfer --key "$operator_key" --to "$citizen" --amount 20000000 --wait
echo "== the citizen pays someone back, through another validator (gossip reaches the leaders)"
operator=$($civitas -o json keys show --key "$operator_key" | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')
$cli --node "$(grpc $((n - 1)))" transfer --key "$key" --to "$operator" --amount 250 --wait
echo "== a refused transaction: a nonce from the future"
$civitas transfer --key "$key" --to "$operator" --amount 1 --nonce 99 || true
echo "== the citizen deploys a contract (a counter, written in the VM's assembly) and calls it"
contract=$($civitas -o json deploy --key "$key" --code "$root/tests/vm/programs/counter.casm" --wait \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["receipt"]["contract_address"])')
echo "contract at $contract"
$civitas call --key "$key" --contract "$contract" --function increment --wait
$civitas call --key "$key" --contract "$contract" --function increment --wait
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
echo
echo "== the civic story: the citizen registers a DID (did:civitas:..., W3C DID Core)"
$civitas did register --key "$key" --wait >/dev/null
did=$($civitas -o json keys show --key "$key" | json_field '["did"]')
$civitas did resolve "$did"
echo "== the citizen applies for citizenship; a majority of the council approves"
$civitas citizenship apply --key "$key" --wait >/dev/null
majority=$((n / 2 + 1))
for i in $(seq 0 $((majority - 1))); do
  echo "council member node$i approves"
  $cli --node "$(grpc "$i")" citizenship approve "$did" --key "$dir/node$i/config/validator_key.json" --wait >/dev/null
done
$civitas citizenship show "$did"
echo "== the citizen proposes a treasury spend to a public-works account, and votes for it"
works=$($cli keys new --out "$dir/works-$(date +%s).json" -o json | json_field '["address"]')
$civitas transfer --key "$operator_key" --to "$($civitas -o json treasury | json_field '["address"]')" --amount 50000 --wait >/dev/null
proposal=$($civitas -o json proposal create --key "$key" --kind spend --to "$works" --amount 25000 \
  --text "repair the agora" --deposit 1000 --wait | json_field '["receipt"]["returns"][0]')
echo "proposal $proposal"
$civitas vote "$proposal" yes --weight 100000 --key "$key" --wait >/dev/null
$civitas proposal tally "$proposal"
echo "== waiting for the voting period (15 s of block time) to end, then anyone executes the decision"
for _ in $(seq 1 300); do
  $civitas proposal execute "$proposal" --key "$operator_key" --wait >/dev/null 2>&1 && break
  sleep 0.5
done
$civitas proposal show "$proposal"
echo "public works account: $($civitas -o json account "$works" | json_field '["balance"]') tokens"
$civitas treasury --movements
echo "== one citizen, one vote: resolutions (kind text) vote by citizen here, no tokens locked"
resolution=$($civitas -o json proposal create --key "$key" --kind text --text "the agora is open to all" \
  --deposit 1000 --wait | json_field '["receipt"]["returns"][0]')
$civitas vote "$resolution" yes --key "$key" --wait >/dev/null
$civitas proposal tally "$resolution"
echo "== the citizen sees their part (votes by DID, tokens locked by the key) and takes the tokens back"
$civitas votes --did "$did" --address "$citizen"
$civitas votes --withdraw-all --key "$key" --wait >/dev/null
echo "tokens still locked: $($civitas -o json votes --address "$citizen" | json_field '["locked"]')"
echo

echo "== the council grows: the citizen proposes that node$n's validator join it"
joiner=$($cli -o json keys show --key "$dir/node$n/config/validator_key.json" | json_field '["public_key"]')
proposal=$($civitas -o json proposal create --key "$key" --kind council --member "$joiner" \
  --text "welcome node$n" --deposit 1000 --wait | json_field '["receipt"]["returns"][0]')
$civitas vote "$proposal" yes --weight 100000 --key "$key" --wait >/dev/null
echo "== waiting for the voting period, then the decision executes; the next block ends epoch 0"
for _ in $(seq 1 300); do
  $civitas proposal execute "$proposal" --key "$operator_key" --wait >/dev/null 2>&1 && break
  sleep 0.5
done
for _ in $(seq 1 100); do
  [ "$($civitas -o json status | json_field '["epoch"]')" -ge 1 ] && break
  sleep 0.1
done
$civitas status
# node$n switches when it has committed the epoch's last block, a moment after node0 reports it.
for _ in $(seq 1 100); do
  curl -s "127.0.0.1:$((base + 10 * n + 2))/metrics" | grep -q '^civitas_consensus_validating 1' && break
  sleep 0.1
done
echo "== node$n now validates too: $(curl -s "127.0.0.1:$((base + 10 * n + 2))/metrics" | grep '^civitas_consensus_validating')"
echo

if [ "$n" -ge 4 ]; then
  last=$((n - 1))
  echo "== validator node$last is killed (SIGKILL); the other $last keep committing"
  kill -KILL "${pids[$last]}"; wait "${pids[$last]}" 2>/dev/null || true
  $civitas transfer --key "$operator_key" --to "$citizen" --amount 5 --wait
  echo "== node$last restarts and catches up"
  start_node "$last"
  target=$($civitas -o json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])')
  for _ in $(seq 1 300); do
    h=$($cli --node "$(grpc "$last")" -o json status 2>/dev/null \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])' 2>/dev/null || echo 0)
    [ "$h" -ge "$target" ] && break
    sleep 0.1
  done
  echo "node$last at height $h (the others were at $target)"
fi
echo "== the DID resolver over HTTP: curl -s 127.0.0.1:$((base + 2))/1.0/identifiers/$did"
curl -s "127.0.0.1:$((base + 2))/1.0/identifiers/$did" | head -c 400; echo
echo "== balances, as every node sees them"
for i in $(seq 0 "$n"); do
  echo "node$i: $($cli --node "$(grpc "$i")" -o json account "$citizen")"
done
echo "== latest block"
$civitas block

cat <<MSG

The council of $((n + 1)) validators is running (gRPC of node i on 127.0.0.1:$((base + 1)) + 10 i). Try:
  $civitas status
  $civitas account $citizen
  curl -s 127.0.0.1:$((base + 2))/metrics | grep civitas_
Explorer (blocks, transactions, DIDs, proposals with tallies, the treasury): http://127.0.0.1:$((base + 2))/
Metrics (Prometheus): http://127.0.0.1:$((base + 2))/metrics
After Ctrl-C, audit the chain: $civitasd replay --home $dir/node0
MSG
wait
