package dev.cnnzoo.training.data;

/** Which part of a dataset. */
public enum Split {
    TRAIN, TEST
}
