# want: 8: Groups and top-level tasks together: Write either group blocks
experiment "mixed" {
  group "worker" {
    task "train" {
      command = "python3"
    }
  }
  task "eval" {
    command = "python3"
  }
}
