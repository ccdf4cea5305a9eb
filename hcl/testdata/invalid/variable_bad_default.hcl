# want: 4: Invalid default value for variable: This default value is not compatible with the variable's type: a number is required
variable "epochs" {
  type    = number
  default = "ten"
}
experiment "vars" {
  task "train" {
    command = "python3"
  }
}
