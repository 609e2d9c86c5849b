#!/bin/sh
# Prints the CPU as benchmark reports name it, like internal/cpuinfo:
# "AMD EPYC (family 25 model 17; avx512f, avx512_vnni, avx512_bf16)". The
# model name alone can be too vague (a VM may call Zen 4 and Zen 5 both
# "AMD EPYC"), so the family, model and vector extensions come with it.
#
# Usage: sh bench/cpu.sh
awk -F': *' '
/^$/ { if (name != "") exit }
$1 ~ /^model name/ { name = $2 }
$1 ~ /^cpu family/ { fam = $2 }
$1 ~ /^model[ \t]*$/ { mod = $2 }
$1 ~ /^flags/ {
	n = split($2, f, " ")
	for (i = 1; i <= n; i++) have[f[i]] = 1
	split("avx512f avx512_vnni avx512_bf16 amx_tile", want, " ")
	for (i = 1; i <= 4; i++) if (want[i] in have) ext = ext (ext == "" ? "" : ", ") want[i]
}
END {
	if (name == "") name = "unknown CPU"
	if (fam == "") { print name; exit }
	printf "%s (family %s model %s%s)\n", name, fam, mod, (ext == "" ? "" : "; " ext)
}' /proc/cpuinfo
