package dev.cnnzoo.api;

import java.util.List;

/** No provider on the class path offers the asked-for id. */
public final class UnknownModelException extends ZooException {
    private final List<String> suggestions;

    public UnknownModelException(String id, List<String> suggestions) {
        super("unknown model '" + id + "'" + (suggestions.isEmpty() ? "; `zoo list` shows the models on the class path"
                : "; did you mean " + String.join(", ", suggestions) + "?"));
        this.suggestions = List.copyOf(suggestions);
    }

    public List<String> suggestions() {
        return suggestions;
    }
}
