"""The interface: the unfold admin site, dashboard, ModelAdmins and their pages."""
