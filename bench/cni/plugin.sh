#!/bin/bash
# A CNI plugin as a runtime runs it: one process per container and command, started
# straight from the runner (bench/c/cni_runner.c, no shell per call, as a runtime does), the
# configuration on stdin, the CNI_* variables set; the time of each command includes the
# plugin's process start. The same network configuration for every tool, only "type" (and
# ipam.type for cnet's built-in allocator) differs:
#   cnet      cnet's bridge recipe with its built-in allocator (ipam type cnet)
#   cnet-hl   cnet's bridge recipe delegating to host-local (the reference IPAM plugin)
#   ref       the reference bridge plugin with host-local (Debian's containernetworking-plugins)
#   floor     no plugin: the same kernel changes for all N containers from one cnet process
#             (bench/cni/floor.lua), the bound on what any plugin can reach
# Phases:
#   prep N        make namespaces c1..cN (untimed)
#   add N         ADD c1..cN, one after another       del N   DEL them, one after another
#   storm-add N   ADD c1..cN, 8 at a time              storm-del N   DEL them, 8 at a time
#   check-add N / check-del N   the kernel's view after add / del (untimed, iproute2 and nft)
#   plugin.sh TOOL PHASE N       (MASQ=false leaves masquerade out of the configuration)
set -euo pipefail
tool=$1 phase=$2 n=$3
dir=/run/cnet-bench/cni
mkdir -p "$dir"
CNI_PATH=${CNI_PATH:-/usr/lib/cni}
cnet_bin=${CNET:-$(dirname "$0")/../../build/cnet}
runner=$(dirname "$0")/../../build/bench-c/cni-runner # made by bench/run (bench/c/Makefile)
case $tool in
cnet) plugin=$(dirname "$cnet_bin")/cni/cnet type=cnet ipam=cnet ;;
cnet-hl) plugin=$(dirname "$cnet_bin")/cni/cnet type=cnet ipam=host-local ;;
ref) plugin=$CNI_PATH/bridge type=bridge ipam=host-local ;;
floor) plugin=none type=cnet ipam=cnet ;;
*) echo "plugin.sh: unknown tool $tool" >&2; exit 2 ;;
esac
conf=$dir/$tool.json
cat > "$conf" <<JSON
{"cniVersion": "1.0.0", "name": "bench", "type": "$type", "bridge": "cni0",
 "isGateway": true, "ipMasq": ${MASQ:-true},$([ "$type" = cnet ] && echo " \"dataDir\": \"$dir/state\",")
 "ipam": {"type": "$ipam", "subnet": "10.200.0.0/16", "routes": [{"dst": "0.0.0.0/0"}]$([ "$ipam" = host-local ] && echo ", \"dataDir\": \"$dir/ipam\"")}}
JSON
export CNI_PATH

die() { echo "check: $*" >&2; exit 1; }

case $phase in
prep)
	for ((i = 1; i <= n; i++)); do echo "netns add c$i"; done | ip -batch -
	;;
add | del | storm-add | storm-del) ;;&
add | storm-add) [ "$tool" = floor ] && exec "$cnet_bin" "$(dirname "$0")/floor.lua" add "$n" ;;&
del | storm-del) [ "$tool" = floor ] && exec "$cnet_bin" "$(dirname "$0")/floor.lua" del "$n" ;;&
add) "$runner" ADD "$plugin" "$conf" "$n" 1 ;;
del) "$runner" DEL "$plugin" "$conf" "$n" 1 ;;
storm-add | storm-del) "$runner" "$(tr a-z A-Z <<< "${phase#storm-}")" "$plugin" "$conf" "$n" 8 ;;
check-add)
	[ "$(ls /sys/class/net/cni0/brif | wc -l)" = "$n" ] || die "cni0 has $(ls /sys/class/net/cni0/brif | wc -l) ports, want $n"
	ip -br addr show cni0 | grep >/dev/null '10\.200\.0\.1/16' || die "cni0 has no gateway address"
	addrs=$(for ((i = 1; i <= n; i++)); do ip -n c$i -4 -br addr show eth0 | awk '{print $3}'; done | sort -u | wc -l)
	[ "$addrs" = "$n" ] || die "$addrs distinct container addresses, want $n"
	for i in 1 $n; do
		ip -n c$i route show default | grep >/dev/null 'via 10.200.0.1 dev eth0' || die "c$i: no default route"
	done
	if [ "${MASQ:-true}" = true ]; then
		nft list ruleset | grep -i masquerade >/dev/null || die "no masquerade"
	fi
	;;
check-del)
	for ((i = 1; i <= n; i++)); do
		[ -z "$(ip -n c$i -br link show eth0 2>/dev/null)" ] || die "c$i still has eth0"
	done
	[ -z "$(ls /sys/class/net/ | grep '^veth' || true)" ] || die "veths left"
	;;
*) echo "plugin.sh: unknown phase $phase" >&2; exit 2 ;;
esac
