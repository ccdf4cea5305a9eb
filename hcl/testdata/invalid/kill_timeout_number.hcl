# want: 5: Invalid value for kill_timeout: The kill_timeout must be a duration
experiment "vocab" {
  task "train" {
    command      = "/usr/bin/python3"
    kill_timeout = 30
  }
}
