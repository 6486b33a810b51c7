/** The VGG networks. */
module dev.cnnzoo.vgg {
    requires dev.cnnzoo.api;

    provides dev.cnnzoo.api.ModelProvider with dev.cnnzoo.vgg.VggProvider;
}
