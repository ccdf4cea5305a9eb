# want: 2: No value for required variable: The variable "data_dir" has no default
variable "data_dir" {
  type = string
}
experiment "vars" {
  task "train" {
    command = "python3"
    args    = [var.data_dir]
  }
}
