# error(Adam)/error(SIP) of a sip_heat metrics.csv at the iterations both methods reached, each error the
# mean over iterations [0.9n, 1.1n] (at least 5), as the app computes it (sip.md §3: 1.15-1.7 at n = 100,
# 1.7-3.2 at 10k, and error(SIP)/error(Adam) <= 0.8 at 500). Usage: awk -f scripts/heat_ratios.awk metrics.csv
BEGIN { FS = "," }
FNR > 1 { error[$1, $2] = $5; if ($2 + 0 > last[$1]) last[$1] = $2 + 0 }
function window_end(n,   lo, hi) { lo = int(0.9 * n); hi = int(1.1 * n); return hi - lo < 5 ? lo + 5 : hi }
function mean(m, n,   lo, hi, i, total) {
  lo = int(0.9 * n); hi = window_end(n)
  for (i = lo; i <= hi; ++i) total += error[m, i]
  return total / (hi - lo + 1)
}
END {
  reached = last["sip"] < last["adam"] ? last["sip"] : last["adam"]
  printf "both methods reached iteration %d\n", reached
  printf "%8s %12s %12s %12s\n", "n", "error SIP", "error Adam", "Adam/SIP"
  count = split("10 30 100 200 500 1000 2000 5000 10000", ns, " ")
  for (k = 1; k <= count; ++k) if (window_end(ns[k]) <= reached)
    printf "%8d %12.2f %12.2f %12.3f\n", ns[k], mean("sip", ns[k]), mean("adam", ns[k]),
           mean("adam", ns[k]) / mean("sip", ns[k])
}
