"""Pure: when the next photo check-ins are due, and the calendar feed that reminds of them."""
