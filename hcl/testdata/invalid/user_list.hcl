# want: 5: Invalid value for user
experiment "vocab" {
  task "train" {
    command = "/usr/bin/python3"
    user    = ["root"]
  }
}
