# want: 3: Missing command: Task "train" has nothing to run
experiment "nothing" {
  task "train" {
    args = ["train.py"]
  }
}
