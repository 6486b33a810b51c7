/** AlexNet, its torchvision form, and ZF Net. */
module dev.cnnzoo.alexnet {
    requires dev.cnnzoo.api;

    provides dev.cnnzoo.api.ModelProvider with dev.cnnzoo.alexnet.AlexNetProvider;
}
