# want: 5: Invalid value for args: The args must be a list of strings; this is string
experiment "args" {
  task "train" {
    command = "python3"
    args    = "train.py --epochs 10"
  }
}
