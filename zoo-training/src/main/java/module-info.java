/**
 * Training in standard ONNX operators: gradients, losses and optimizers as graphs, training
 * artifacts, checkpoints, datasets, and the trainer that runs them in ONNX Runtime.
 */
module dev.cnnzoo.training {
    requires transitive dev.cnnzoo.runtime;
    // The learning-curve PNG.
    requires org.knowm.xchart;

    exports dev.cnnzoo.training;
    exports dev.cnnzoo.training.data;
    exports dev.cnnzoo.training.run;
}
