-- Reserved: this number is being filled by work in progress; it changes nothing yet.
SELECT 1;
