# want: 2: Invalid experiment name: An experiment name starts with a letter or digit
experiment "my experiment!" {
  task "train" {
    command = "python3"
  }
}
