# Shared by the interop scripts (sourced): start a policy server in the background and wait
# until it listens. Usage: start_server LOG COMMAND...; sets SERVER (its pid) and stops it on
# exit.
start_server() {
    local log="$1"; shift
    "$@" > "$log" 2>&1 &
    SERVER=$!
    trap 'kill $SERVER 2>/dev/null || true' EXIT
    for _ in $(seq 120); do
        grep -q "serving policy" "$log" 2>/dev/null && return 0
        kill -0 "$SERVER" 2>/dev/null || { cat "$log"; exit 1; }
        sleep 1
    done
    echo "the policy server did not start within 120 s:"; cat "$log"; exit 1
}
