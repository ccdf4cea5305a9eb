# want: 4: Unsupported argument: An argument named "num_sample" is not expected here. Did you mean "num_samples"?
experiment "typo" {
  seed       = 1
  num_sample = 4

  task "train" {
    command = "python3"
  }
}
