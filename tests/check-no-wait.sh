#!/usr/bin/env bash
# Only src/loop/ waits for children (THE reaper, and the blocking one-child wait
# of loop/fork.c): a waitpid/wait4/waitid/wait call anywhere else in src/ could
# steal an exit the reaper routes. Comments are ignored.
# Usage: tests/check-no-wait.sh [SRC_DIR]
set -u
src=${1:-src}
bad=0
while IFS= read -r -d '' f; do
	case "$f" in "$src"/loop/*) continue ;; esac
	hits=$(perl -0777 -ne '
		s{/\*.*?\*/}{ my $c = $&; $c =~ s/[^\n]//g; $c }gse; # keep line numbers
		s{//[^\n]*}{}g;
		my $n = 0;
		for my $line (split /\n/, $_, -1) {
			$n++;
			print "$n: $line\n" if $line =~ /\b(waitpid|wait4|waitid|wait3|wait)\s*\(/;
		}' "$f")
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits" | sed "s|^|$f:|"
		bad=1
	fi
done < <(find "$src" -name '*.[ch]' -print0)
if [ "$bad" -ne 0 ]; then
	echo "check-no-wait: only src/loop/ may wait for a child (use loop/fork.h, loop/spawn.h, loop/reaper.h)"
	exit 1
fi
echo "check-no-wait: no wait for a child outside src/loop/"
