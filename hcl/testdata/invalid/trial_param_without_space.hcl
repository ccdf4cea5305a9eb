# want: 5: Reference to undefined parameter: trial.x is not a parameter of this experiment. The experiment has no space block, so only trial.id and trial.index exist.
experiment "nospace" {
  task "train" {
    command = "python3"
    args    = ["--x=${trial.x}"]
  }
}
