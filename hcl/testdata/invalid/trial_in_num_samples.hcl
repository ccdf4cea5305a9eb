# want: 6: Trial values are not available here: This is num_samples
experiment "samples" {
  space {
    n = randint(1, 4)
  }
  num_samples = trial.n
  task "train" {
    command = "python3"
  }
}
