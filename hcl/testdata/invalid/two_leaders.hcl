# want: 8: Two leader tasks
experiment "vocab" {
  task "train" {
    command = "/usr/bin/python3"
    leader  = true
  }

  task "eval" {
    command = "/usr/bin/python3"
    leader  = true
  }
}
