# Split a guest's output into files: the lines between "@@@BEGIN PATH" and
# "@@@END" go to DIR/PATH (its directories made as needed); lines outside a
# section are dropped. Used by tests/run-vm.sh, tests/fixture/run.sh and
# tests/lab/run.sh:   awk -v dir=DIR -f tests/split-sections.awk OUTPUT
/^@@@BEGIN / {
	n = split($2, p, "/")
	d = dir
	for (i = 1; i < n; i++) {
		d = d "/" p[i]
		system("mkdir -p \"" d "\"")
	}
	f = dir "/" $2
	next
}
/^@@@END$/ { close(f); f = ""; next }
f != "" { print > f }
