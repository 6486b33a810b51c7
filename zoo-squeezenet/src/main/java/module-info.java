/** SqueezeNet. */
module dev.cnnzoo.squeezenet {
    requires dev.cnnzoo.api;
    provides dev.cnnzoo.api.ModelProvider with dev.cnnzoo.squeezenet.SqueezeNetProvider;
}
