package dev.cnnzoo.cli;

import dev.cnnzoo.weights.WeightChecks;
import picocli.CommandLine.Option;

/** How strictly weights are checked as they are loaded, for every command that loads weights. */
final class WeightCheckOptions {
    @Option(names = "--allow-non-finite", description = "Accept weights that hold NaN or infinite values (refused by default: every output "
            + "would be NaN).")
    boolean allowNonFinite;

    WeightChecks checks() {
        return allowNonFinite ? WeightChecks.allowingNonFinite() : WeightChecks.strict();
    }
}
