# Reads swift-testing's output; prints each test that started and never passed, failed or was skipped.
/^◇ Test case / { next }
/^◇ Test .* started\.$/ {
    name = $0; sub(/^◇ Test /, "", name); sub(/ started\.$/, "", name); open[name] = 1; order[++n] = name; next
}
/ Test .* (passed|failed|skipped)/ {
    for (name in open) if (index($0, " Test " name " ") > 0) delete open[name]
}
END { for (i = 1; i <= n; i++) if (order[i] in open) { print "  " order[i]; delete open[order[i]] } }
