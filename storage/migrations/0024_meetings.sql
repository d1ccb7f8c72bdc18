-- Reserved: owners' meetings with several items (issue 15).
SELECT 1;
