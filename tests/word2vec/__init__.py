"""Tests of minidl.text word2vec: Huffman tree, models, pairs, word vectors, the task."""
