# want: 6: Invalid value for logs max_files: The logs max_files must be at least 1
experiment "vocab" {
  task "train" {
    command = "/usr/bin/python3"
    logs {
      max_files = 0
    }
  }
}
