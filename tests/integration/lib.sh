# Shared by the integration tests: TAP output and a scratch project.
# HERALD is the binary under test (the Makefile sets it).
: "${HERALD:=$(pwd)/build/herald}"
TOP=$(pwd)
SHARED=${SHARED:-$TOP/../shared}
tap_n=0
tap_failed=0

ok() { # ok CONDITION-STATUS NAME
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

diag() { sed 's/^/# /'; }

skip() { # skip NAME REASON: a case that cannot run here, as TAP says
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

# The workplace's ../shared (conformance suites, real corpora) is not part of
# a clone; cases that read it are skipped where it is absent.
shared_present() { [ -d "$SHARED/corpus" ] && [ -d "$SHARED/conformance" ]; }

is_file() { # is_file GOT WANT NAME: whole files compared
	if cmp -s "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diff -u "$2" "$1" | head -40 | diag
	fi
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# A scratch folder removed at exit.
scratch() {
	SCRATCH=$(mktemp -d)
	trap 'rm -rf "$SCRATCH"' EXIT
}
