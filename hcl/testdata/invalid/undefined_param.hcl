# want: 9: Reference to undefined parameter: trial.lerning_rate is not a parameter of this experiment (did you mean "learning_rate"?)
experiment "typo" {
  space {
    learning_rate = loguniform(1e-4, 1e-1)
  }
  task "train" {
    command = "python3"
    args = [
      "--lr=${trial.lerning_rate}",
    ]
  }
}
