/** The Inception family: GoogLeNet, Inception v3, Inception-v4, Inception-ResNet and Xception. */
module dev.cnnzoo.googlenet {
    requires dev.cnnzoo.api;

    provides dev.cnnzoo.api.ModelProvider with dev.cnnzoo.googlenet.InceptionProvider;
}
