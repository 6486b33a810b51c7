/** The zoo's SPI, model metadata, graph language, summaries and weights I/O. */
module dev.cnnzoo.api {
    requires transitive com.fasterxml.jackson.databind;

    exports dev.cnnzoo.api;
    exports dev.cnnzoo.blocks;
    exports dev.cnnzoo.graph;
    exports dev.cnnzoo.nn;
    exports dev.cnnzoo.weights;
    exports dev.cnnzoo.io;

    uses dev.cnnzoo.api.ModelProvider;
}
